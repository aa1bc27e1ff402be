"""The site's URLs: the practice app's JSON endpoints at the root."""
from django.urls import include, path

urlpatterns = [path("", include("practice.urls"))]
