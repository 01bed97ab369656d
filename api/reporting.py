"""Monthly reporting compliance and where to inspect next."""
from flask_smorest import Blueprint

blp = Blueprint("reporting", __name__, url_prefix="/api", description="Monthly reporting compliance and where to inspect next.")
