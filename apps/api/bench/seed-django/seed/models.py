"""The seed's User profile, Subscription and WebhookEvent (TECHNICAL_ARCHITECTURE.md, Database)."""
from django.conf import settings
from django.db import models


class Subscription(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    stripe_customer_id = models.CharField(max_length=255, db_index=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, db_index=True, blank=True)
    status = models.CharField(max_length=32, default="incomplete")
    current_period_end = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def is_active(self):
        return self.status in ("active", "trialing")


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    subscription = models.OneToOneField(Subscription, null=True, on_delete=models.SET_NULL)
    is_subscribed = models.BooleanField(default=False)
    trial_end_date = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)


class WebhookEvent(models.Model):
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=255)
    processed = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
