from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from annotator.formats.schema import AIF_KINDS, NAME, NAME_RULE

#: Label and relation type names follow the schema's rule wherever they are
#: edited (the admin's forms run model validators).
name_validator = RegexValidator(NAME, f"A name {NAME_RULE}.")


class Role(models.TextChoices):
    MANAGER = "manager", "Manager"
    CURATOR = "curator", "Curator"
    ANNOTATOR = "annotator", "Annotator"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    """A corpus of briefs with its guidelines, label schema and assignment rules."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Markdown, rendered safely.")
    annotators_per_document = models.PositiveSmallIntegerField(default=2)
    blind = models.BooleanField(
        default=True, help_text="Annotators see only their own annotation sets."
    )
    allow_reopen = models.BooleanField(
        default=True, help_text="Annotators may reopen a submitted set."
    )
    default_due = models.DateField(null=True, blank=True)
    grades_released = models.BooleanField(default=False)
    citation = models.TextField(
        blank=True, help_text="How to cite the corpus (BibTeX), for the dataset card."
    )
    join_code = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annotators_per_document__gte=1),
                name="project_at_least_one_annotator",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class SpanLabel(models.Model):
    """A span label of a project's schema (MajorClaim, Claim, Reason, Evidence…)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="span_labels")
    name = models.CharField(max_length=64, validators=[name_validator])
    colour = models.CharField(max_length=7, default="#64748b")
    hotkey = models.CharField(max_length=1, blank=True)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    attributes = models.JSONField(
        default=list,
        blank=True,
        help_text="The label's attributes: [{name, type, values, hotkey, description}] "
        "as formats/schema.py checks them.",
    )

    class Meta:
        ordering = ["project", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="span_label_unique_name"),
            models.UniqueConstraint(
                fields=["project", "hotkey"],
                condition=~Q(hotkey=""),
                name="span_label_unique_hotkey",
            ),
            models.CheckConstraint(
                condition=Q(colour__regex=r"^#[0-9a-f]{6}$"), name="span_label_colour_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RelationType(models.Model):
    """A relation type with the (source label, target label) pairs it allows.

    ``allowed`` is a list of ``[source, target]`` label names; ``"*"`` is any label.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="relation_types"
    )
    name = models.CharField(max_length=64, validators=[name_validator])
    directed = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    allowed = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    aif = models.CharField(
        max_length=16,
        choices=[(kind, kind) for kind in AIF_KINDS],
        default="none",
        help_text="How AIF sees the type: inference (RA), conflict (CA), rephrase (MA), none.",
    )

    class Meta:
        ordering = ["project", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="relation_type_unique_name"),
            models.CheckConstraint(
                condition=Q(aif__in=list(AIF_KINDS)), name="relation_type_aif_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name
