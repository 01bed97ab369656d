"""X-Forwarded-For and -Proto applied only when the request comes from a proxy named in FORWARDED_ALLOW_IPS."""
import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix (one hop) for requests from a trusted proxy; others as they came."""

    def __init__(self, app, networks):
        self.app = app
        self.networks = tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1)

    def __call__(self, environ, start_response):
        if self._trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        # A client cannot pick the address the sign-in limits count by sending the header itself.
        return self.app(environ, start_response)

    def _trusted(self, address):
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(peer in network for network in self.networks)
