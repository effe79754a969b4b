from django.urls import path

from . import views

app_name = "consent"
urlpatterns = [
    path("portal/", views.portal, name="portal"),
]
