"""Ledger intake: enterprises report their monthly product flows."""
from flask_smorest import Blueprint

blp = Blueprint("intake", __name__, url_prefix="/api", description="Ledger intake: enterprises report their monthly product flows.")
