"""The three endpoints the bench races: health, the signed-in profile, and Stripe's webhook."""
import stripe
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Profile, Subscription, WebhookEvent


def error(status, code, message):
    return JsonResponse({"success": False, "error": message, "code": code, "status": status}, status=status)


@require_GET
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
    except Exception:
        return error(503, "SERVICE_UNAVAILABLE", "Unavailable: database.")
    return JsonResponse({"success": True, "data": {"status": "ok", "checks": {"database": "ok"}}})


class ProfileView(APIView):
    def get(self, request):
        user = request.user
        profile = Profile.objects.filter(user=user).first()
        subscription = Subscription.objects.filter(user=user).first()
        return Response(
            {
                "success": True,
                "data": {
                    "user": {
                        "id": user.id,
                        "email": user.email,
                        "username": user.username,
                        "is_staff": user.is_staff,
                        "date_joined": user.date_joined,
                        "subscription": (
                            {
                                "status": subscription.status,
                                "current_period_end": subscription.current_period_end,
                            }
                            if subscription
                            else None
                        ),
                    },
                    "is_pro": request._request.is_pro,
                    "trial_end": profile.trial_end_date if profile else None,
                },
            }
        )


def webhook_rate_limited():
    """webhook_ratelimit.py: events per minute, counted in the cache (Redis)."""
    key = f"webhook-rate:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    return cache.incr(key) > settings.WEBHOOK_EVENTS_PER_MINUTE


# Handlers for the types that change a subscription; every other type is acknowledged.
HANDLERS = {}


@csrf_exempt
@require_POST
def stripe_webhook(request):
    if webhook_rate_limited():
        return error(429, "RATE_LIMITED", "Too many requests.")
    try:
        event = stripe.Webhook.construct_event(
            request.body, request.META.get("HTTP_STRIPE_SIGNATURE", ""), settings.STRIPE_WEBHOOK_SECRET
        )
    except (ValueError, stripe.error.SignatureVerificationError):
        return error(400, "INVALID_SIGNATURE", "Invalid signature.")
    with transaction.atomic():
        record, _ = WebhookEvent.objects.select_for_update().get_or_create(
            event_id=event["id"], defaults={"type": event["type"]}
        )
        if record.processed:
            return JsonResponse({"success": True, "data": {"received": True, "outcome": "duplicate"}})
        handler = HANDLERS.get(event["type"])
        if handler:
            handler(event)
        record.processed = True
        record.processed_at = timezone.now()
        record.save(update_fields=["processed", "processed_at"])
    return JsonResponse({"success": True, "data": {"received": True, "outcome": "processed"}})
