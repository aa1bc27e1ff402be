"""The practice app's endpoints (JSON)."""
from django.urls import path

from . import views

urlpatterns = [
    path("signup", views.sign_up),
    path("accounts", views.accounts),
    path("switch", views.switch),
    path("members", views.add_member),
    path("appointment-types", views.appointment_types),
    path("appointment-types/effective", views.effective_appointment_types),
    path("patients", views.patients),
]
