"""GS1 EPCIS 2.0 capture and export of batch histories."""
from flask_smorest import Blueprint

blp = Blueprint("epcis", __name__, url_prefix="/api", description="GS1 EPCIS 2.0 capture and export of batch histories.")
