from django.db import models


class Unit(models.Model):
    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=100)
    level = models.CharField(max_length=20)
    path = models.CharField(max_length=200, db_index=True)
    parent = models.ForeignKey("self", null=True, on_delete=models.PROTECT)

    class Meta:
        app_label = "djangoside"

    def __str__(self):
        return self.name


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    noted_on = models.DateField(db_index=True)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT)
    created_on = models.DateTimeField()
    changed_on = models.DateTimeField()

    class Meta:
        app_label = "djangoside"

    def __str__(self):
        return self.title


class Member(models.Model):
    """The unit a Django user belongs to (as ab_user.unit_id on our side)."""

    user = models.OneToOneField("auth.User", on_delete=models.CASCADE)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT)

    class Meta:
        app_label = "djangoside"
