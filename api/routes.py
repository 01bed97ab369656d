"""Every API blueprint, registered in one place."""
from . import auth, ledger, meta, scans, users
from . import epcis, inspections, intake, registry, reporting


def register(app, api):
    """Register the resource blueprints on the smorest Api."""
    api.register_blueprint(meta.blp)
    api.register_blueprint(auth.blp)
    api.register_blueprint(users.blp)
    api.register_blueprint(scans.blp)
    api.register_blueprint(ledger.blp)
    api.register_blueprint(inspections.blp)
    api.register_blueprint(registry.blp)
    api.register_blueprint(intake.blp)
    api.register_blueprint(epcis.blp)
    api.register_blueprint(reporting.blp)
