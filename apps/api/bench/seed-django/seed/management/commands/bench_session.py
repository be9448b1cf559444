"""Creates the bench's user with its profile and a signed-in session; prints the session key."""
import secrets

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.management.base import BaseCommand
from importlib import import_module

from seed.models import Profile


class Command(BaseCommand):
    def handle(self, *args, **options):
        user = get_user_model().objects.create_user(
            username=f"bench{secrets.token_hex(4)}",
            email="bench@example.com",
            password=secrets.token_urlsafe(16),
        )
        Profile.objects.create(user=user)
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        self.stdout.write(store.session_key)
