import factory
from django.contrib.auth import get_user_model

from annotator.formats.schema import load_schema
from annotator.models import AnnotationSet, Document, Membership, Project, Span
from annotator.services.imports import content_hash
from annotator.services.projects import schema_apply


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests-1")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"project-{n}")
    name = factory.LazyAttribute(lambda p: p.slug.replace("-", " ").title())
    guidelines = "Mark the **major claim** first."

    @factory.post_generation
    def schema(self, create, extracted, **kwargs):
        if create:
            schema_apply(project=self, schema=extracted or load_schema("argument"))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = "annotator"


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"brief-{n}")
    title = factory.LazyAttribute(lambda d: f"Brief {d.external_id}")
    text = factory.Sequence(
        lambda n: f"Brief {n}. Sanctions work. First, exports fell (Reuters). Second, prices rose."
    )
    content_hash = factory.LazyAttribute(lambda d: content_hash(d.text))
    original = factory.LazyAttribute(lambda d: d.text.encode())
    original_name = factory.LazyAttribute(lambda d: f"{d.external_id}.txt")
    source_format = "text"


class AnnotationSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnnotationSet

    document = factory.SubFactory(DocumentFactory)
    annotator = factory.SubFactory(UserFactory)
    status = "assigned"


class SpanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Span

    annotation_set = factory.SubFactory(AnnotationSetFactory)
    label = factory.LazyAttribute(
        lambda s: s.annotation_set.document.project.span_labels.get(name="Claim")
    )
    start = 0
    end = 5
