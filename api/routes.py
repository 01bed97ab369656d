"""Every API blueprint, registered in one place."""
from . import auth, meta


def register(app, api):
    """Register the resource blueprints on the smorest Api."""
    api.register_blueprint(meta.blp)
    api.register_blueprint(auth.blp)
