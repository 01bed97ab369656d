"""Swagger UI assets served from the swagger_ui_bundle package, so /api/docs works offline."""
from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

URL = "/api/docs/assets/"
blp = Blueprint("docs_assets", __name__)


@blp.get(URL + "<path:filename>")
def asset(filename):
    """Serve one Swagger UI file."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
