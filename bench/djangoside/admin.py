from django.contrib import admin

from .models import Note


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    """The same list as MemoNoteView: 25 rows, three columns, newest first, title search and a date filter,
    limited to the user's unit subtree (a superuser sees everything)."""

    list_display = ("title", "noted_on", "unit")
    list_per_page = 25
    ordering = ("-noted_on",)
    search_fields = ("title",)
    list_filter = ("noted_on",)
    list_select_related = ("unit",)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        path = request.user.member.unit.path  # the same indexed range as core.tenancy.units.subtree_of
        return qs.filter(unit__path__gte=path, unit__path__lt=path[:-1] + "0")
