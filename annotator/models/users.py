from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """Warrant's user; custom from the first migration so it can grow."""

    class Meta:
        db_table = "annotator_user"

    def __str__(self) -> str:
        return self.username
