"""Shapes of the API's requests and responses.

Serializers here only convert: types, required fields and ranges that keep a
value storable. Every rule about annotations (offsets inside the text, allowed
label pairs, versions, submitted sets) is the services' and answers 400/409
with their message.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotator.formats.schema import AIF_KINDS, ATTRIBUTE_TYPES
from annotator.models import AnnotationSet, AnnotationStatus, Document, Project

# Offsets and versions are stored as 32-bit integers on every database.
MAX_INT = 2**31 - 1

OFFSETS = (
    "Offsets count Unicode code points (Python str indices) into the document's canonical "
    "text, not UTF-16 code units or bytes: `start` is inclusive, `end` exclusive."
)
VERSION_HELP = (
    "The annotation set's version this write is based on (`version` of the set). A stale "
    "version is refused with 409 Conflict; reload the set and try again."
)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in one line.")


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        required=False, help_text="Messages per field, when a field was invalid."
    )


# --------------------------------------------------------------------------- projects


class AttributeSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(
        choices=ATTRIBUTE_TYPES,
        help_text="choice (one of values), boolean (true/false) or text (one short line).",
    )
    values = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="A choice's values."
    )
    hotkey = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)


class SpanLabelSerializer(serializers.Serializer):
    name = serializers.CharField()
    colour = serializers.CharField(help_text="#rrggbb")
    hotkey = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    attributes = AttributeSerializer(
        many=True, help_text="What a span of this label may hold in its attributes."
    )


class RelationTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    directed = serializers.BooleanField()
    description = serializers.CharField(allow_blank=True)
    allowed = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2),
        help_text='Allowed [source label, target label] pairs; "*" is any label.',
    )
    aif = serializers.ChoiceField(
        choices=AIF_KINDS,
        help_text="How AIF sees the type: inference (RA node), conflict (CA), rephrase (MA), "
        "none (left out of AIF exports).",
    )


class SchemaSerializer(serializers.Serializer):
    span_labels = SpanLabelSerializer(many=True)
    relation_types = RelationTypeSerializer(many=True)


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.CharField(
        allow_null=True, help_text="Your role in the project (null for an administrator)."
    )
    document_count = serializers.IntegerField()

    class Meta:
        model = Project
        fields = [
            "slug",
            "name",
            "description",
            "role",
            "document_count",
            "annotators_per_document",
            "blind",
            "allow_reopen",
            "created_at",
        ]


class ProjectDetailSerializer(ProjectSerializer):
    guidelines = serializers.CharField(help_text="Markdown.")
    schema = SchemaSerializer()
    permissions = serializers.ListField(
        child=serializers.CharField(),
        help_text="The actions of the permission matrix you may do in this project.",
    )

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "guidelines", "schema", "permissions"]


# --------------------------------------------------------------------------- documents


class DocumentSerializer(serializers.ModelSerializer):
    characters = serializers.IntegerField(
        help_text="Length of the canonical text in code points."
    )

    class Meta:
        model = Document
        fields = [
            "id",
            "external_id",
            "title",
            "position",
            "characters",
            "source_format",
            "meta",
            "created_at",
        ]


class DocumentDetailSerializer(DocumentSerializer):
    text = serializers.CharField(help_text=f"The canonical text (\\n line ends). {OFFSETS}")

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "text", "content_hash", "cleaning"]


# --------------------------------------------------------------------------- annotation sets


class SpanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField(source="label.name")
    start = serializers.IntegerField(help_text=f"First code point of the span. {OFFSETS}")
    end = serializers.IntegerField(help_text=f"Code point just after the span. {OFFSETS}")
    text = serializers.SerializerMethodField()
    attributes = serializers.DictField()
    note = serializers.CharField(allow_blank=True)
    external_id = serializers.CharField(allow_blank=True)
    suggested_by = serializers.CharField(
        allow_blank=True,
        help_text="The recommender whose accepted suggestion this span is (cues, model, "
        "external); empty for a span drawn by hand.",
    )

    @extend_schema_field(serializers.CharField(help_text="text[start:end] of the document."))
    def get_text(self, span) -> str:
        return self.context["text"][span.start : span.end]


class RelationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField(source="source_id", help_text="Id of the source span.")
    target = serializers.IntegerField(source="target_id", help_text="Id of the target span.")
    type = serializers.CharField(source="type.name")
    attributes = serializers.DictField()
    external_id = serializers.CharField(allow_blank=True)


class AnnotationSetSerializer(serializers.ModelSerializer):
    annotator = serializers.CharField(
        source="annotator.username", allow_null=True, help_text="null for the gold standard."
    )
    document = serializers.IntegerField(source="document_id")
    span_count = serializers.IntegerField()
    relation_count = serializers.IntegerField()

    class Meta:
        model = AnnotationSet
        fields = [
            "id",
            "document",
            "annotator",
            "is_gold",
            "status",
            "version",
            "due",
            "started_at",
            "submitted_at",
            "updated_at",
            "span_count",
            "relation_count",
        ]


class AnnotationSetDetailSerializer(AnnotationSetSerializer):
    project = serializers.CharField(source="document.project.slug")
    editable = serializers.BooleanField(
        help_text="Whether you may change this set now (yours, or gold for a curator, "
        "and not submitted)."
    )
    spans = SpanSerializer(many=True, help_text=OFFSETS)
    relations = RelationSerializer(many=True)

    class Meta(AnnotationSetSerializer.Meta):
        fields = [*AnnotationSetSerializer.Meta.fields, "project", "editable", "spans", "relations"]


class AnnotationSetStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AnnotationStatus.choices)
    version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField(allow_null=True)


# --------------------------------------------------------------------------- writes


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, max_value=MAX_INT, help_text=VERSION_HELP)


class SpanCreateSerializer(VersionSerializer):
    label = serializers.CharField(max_length=64, help_text="A span label of the project.")
    start = serializers.IntegerField(min_value=0, max_value=MAX_INT, help_text=OFFSETS)
    end = serializers.IntegerField(min_value=0, max_value=MAX_INT, help_text=OFFSETS)
    snap = serializers.BooleanField(
        default=False,
        help_text="Grow the range to whole words, as the annotation page does. Whitespace at "
        "either end is trimmed in any case, so the stored offsets can differ from the "
        "request's: read them from the response.",
    )
    attributes = serializers.DictField(
        required=False, default=dict,
        help_text="Values of the attributes the label declares in the schema (unset ones "
        "left out).",
    )
    note = serializers.CharField(
        required=False, default="", allow_blank=True, trim_whitespace=False
    )


class SpanUpdateSerializer(VersionSerializer):
    label = serializers.CharField(max_length=64, required=False)
    attributes = serializers.DictField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class RelationCreateSerializer(VersionSerializer):
    source = serializers.IntegerField(min_value=1, max_value=MAX_INT, help_text="A span id.")
    target = serializers.IntegerField(min_value=1, max_value=MAX_INT, help_text="A span id.")
    type = serializers.CharField(max_length=64, help_text="A relation type of the project.")
    attributes = serializers.DictField(
        required=False, default=dict,
        help_text="Free attributes of the link: names to text, a number or true/false.",
    )


class SpanWriteSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The set's version after this write.")
    span = SpanSerializer()


class RelationWriteSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The set's version after this write.")
    relation = RelationSerializer()


class DeletedSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The set's version after this write.")


# --------------------------------------------------------------------------- batches


class BatchSpanSerializer(serializers.Serializer):
    id = serializers.CharField(
        max_length=64, help_text="Your id for the new span, unique in the batch (e.g. T1)."
    )
    label = serializers.CharField(max_length=64, help_text="A span label of the project.")
    start = serializers.IntegerField(min_value=0, help_text=OFFSETS)
    end = serializers.IntegerField(min_value=0, help_text=OFFSETS)
    attributes = serializers.DictField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)


class BatchRelationSerializer(serializers.Serializer):
    source = serializers.JSONField(
        help_text="The id of a span of this batch (text), or of a span already in the set "
        "(a number)."
    )
    target = serializers.JSONField(help_text="As source.")
    type = serializers.CharField(max_length=64, help_text="A relation type of the project.")


class BatchWriteSerializer(VersionSerializer):
    spans = BatchSpanSerializer(many=True, required=False)
    relations = BatchRelationSerializer(many=True, required=False)
    snap = serializers.BooleanField(
        default=False, help_text="Grow each range to whole words, as the annotation page does."
    )
    submit = serializers.BooleanField(
        default=False, help_text="Submit the set after the writes, in the same transaction."
    )


class BatchWriteOptionsSerializer(VersionSerializer):
    """What the view checks with DRF; the items themselves are checked by the service."""

    snap = serializers.BooleanField(default=False)
    submit = serializers.BooleanField(default=False)


class BatchSpanResultSerializer(serializers.Serializer):
    ref = serializers.CharField(help_text="Your id of the span.")
    id = serializers.IntegerField(help_text="Its id in Warrant.")
    label = serializers.CharField()
    start = serializers.IntegerField(help_text=f"As stored (trimmed or snapped). {OFFSETS}")
    end = serializers.IntegerField()


class BatchRelationResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField(help_text="Span id in Warrant.")
    target = serializers.IntegerField(help_text="Span id in Warrant.")
    type = serializers.CharField()


class BatchResultSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The set's version after the batch.")
    status = serializers.ChoiceField(choices=AnnotationStatus.choices)
    spans = BatchSpanResultSerializer(many=True)
    relations = BatchRelationResultSerializer(many=True)
