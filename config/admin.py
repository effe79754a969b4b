"""The admin site: one answer, 404, for an object that is missing and for one that is not yours."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import Http404
from django.utils.translation import gettext as _


class NotFoundAdminMixin:
    """
    Answer 404 for an object the viewer may not see, as for a missing one, on every object page
    (change, history, delete, and any view that finds its object with ``get_object``). Django's
    admin redirects to its index for a missing object and answers 403 for a forbidden one,
    which told a clerk that another consortium's record exists.
    """

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404(_("No such record."))
        return obj


class PlatformAdminSite(admin.AdminSite):
    """Django's admin site, whose every model admin answers as ``NotFoundAdminMixin`` says."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, NotFoundAdminMixin):
            admin_class = type(admin_class.__name__, (NotFoundAdminMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)


class PlatformAdminConfig(AdminConfig):
    default_site = "config.admin.PlatformAdminSite"
