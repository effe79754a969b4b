"""Participation pages: the portal's (residents) and the secretariat's."""

app_name = "participation"

urlpatterns: list = []
