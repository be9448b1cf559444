"""The seed's custom middlewares (TECHNICAL_ARCHITECTURE.md, Middleware Stack)."""
from django.http import HttpResponsePermanentRedirect

from .models import Subscription


class HTTPSRedirectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.is_secure():
            return HttpResponsePermanentRedirect(f"https://{request.get_host()}{request.get_full_path()}")
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-XSS-Protection"] = "1; mode=block"
        response["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response["Content-Security-Policy"] = "default-src 'self'"
        response["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        return response


class ProMiddleware:
    """Marks a signed-in request as Pro or not, from the user's subscription (the seed's gate)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.is_pro = False
        if request.user.is_authenticated:
            subscription = Subscription.objects.filter(user_id=request.user.id).first()
            request.is_pro = bool(subscription and subscription.is_active())
        return self.get_response(request)
