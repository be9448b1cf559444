from django.urls import path

from seed import views

urlpatterns = [
    path("health/", views.health),
    path("api/profile/", views.ProfileView.as_view()),
    path("api/stripe/webhook/", views.stripe_webhook),
]
