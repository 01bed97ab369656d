"""Registry administration: enterprises, whitelist approvals, quotas and penalties."""
from flask_smorest import Blueprint

blp = Blueprint("registry", __name__, url_prefix="/api", description="Registry administration: enterprises, whitelist approvals, quotas and penalties.")
