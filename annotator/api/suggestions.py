"""A set's suggestions over the API (issue 16).

``GET /api/annotation-sets/<id>/suggestions/`` answers what the annotation page
would show in that set now: spans and relations proposed by the project's
recommenders, with confidence and cue, or ``shown: false`` and the reason (off,
not this annotator's half, the gold). Whoever may read the set may read them;
the blind rule applies to the caller (selectors/suggestions.py). ``POST
…/suggestions/accept/`` accepts some of them (or all above the project's
threshold) in the caller's own set, like the page; ``POST …/suggestions/dismiss/``
dismisses them for good in that set.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotator.selectors.suggestions import set_suggestions
from annotator.services import suggestions as svc

from .base import WarrantAPIMixin, api_annotation_set, api_annotation_set_for_write
from .openapi import error_responses
from .parsers import BoundedJSONParser
from .serializers import OFFSETS, VERSION_HELP

#: Keys one request may name.
MAX_KEYS = 2000


class _EndSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    label = serializers.CharField()


class SuggestedSpanSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Names the suggestion to accept or dismiss it.")
    label = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.CharField()
    confidence = serializers.FloatField()
    recommender = serializers.CharField(help_text="cues, model or external.")
    cue = serializers.CharField(allow_blank=True, help_text="What produced it.")


class SuggestedRelationSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.CharField()
    source = _EndSerializer()
    target = _EndSerializer()
    confidence = serializers.FloatField()
    recommender = serializers.CharField()
    cue = serializers.CharField(allow_blank=True)


class SetSuggestionsSerializer(serializers.Serializer):
    shown = serializers.BooleanField(help_text="False: the set shows no suggestions (reason).")
    reason = serializers.CharField(allow_blank=True)
    accept_threshold = serializers.FloatField()
    errors = serializers.ListField(child=serializers.CharField(),
                                   help_text="Recommenders that could not answer, and why.")
    notes = serializers.ListField(child=serializers.CharField(),
                                  help_text="Recommenders left out on purpose, and why.")
    spans = SuggestedSpanSerializer(many=True)
    relations = SuggestedRelationSerializer(many=True)


class AcceptSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)
    keys = serializers.ListField(child=serializers.CharField(max_length=400), required=False,
                                 max_length=MAX_KEYS, default=list)
    all = serializers.BooleanField(required=False, default=False,
                                   help_text="Accept every suggestion at least as confident "
                                             "as the project's threshold.")


class AcceptedSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    spans = serializers.ListField(child=serializers.IntegerField(),
                                  help_text="Ids of the new spans.")
    relations = serializers.ListField(child=serializers.IntegerField())


class DismissSerializer(serializers.Serializer):
    keys = serializers.ListField(child=serializers.CharField(max_length=400), min_length=1,
                                 max_length=MAX_KEYS)


class DismissedSerializer(serializers.Serializer):
    dismissed = serializers.IntegerField()


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["suggestions"])
class SetSuggestionsView(WarrantAPIMixin, APIView):
    @extend_schema(
        summary="The suggestions an annotation set shows now",
        description=f"{OFFSETS} Computed when asked (a fixed number of queries).",
        responses={200: SetSuggestionsSerializer, **error_responses(403)},
    )
    def get(self, request, set_id):
        aset = api_annotation_set(request.user, set_id)
        shown = set_suggestions(annotation_set=aset, user=request.user)
        text = aset.document.text
        return Response({
            "shown": shown.shown, "reason": shown.reason,
            "accept_threshold": shown.accept_threshold,
            "errors": shown.errors, "notes": shown.notes,
            "spans": [{"key": s.key, **s.to_dict(text)} for s in shown.spans],
            "relations": [{"key": r.key, **r.to_dict()} for r in shown.relations],
        })


@extend_schema(tags=["suggestions"])
class SetSuggestionsAcceptView(WarrantAPIMixin, APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        summary="Accept suggestions in your own set",
        description="They become ordinary spans and relations that remember the recommender, "
        f"in one edit (one undo takes it back). {VERSION_HELP}",
        request=AcceptSerializer,
        responses={200: AcceptedSerializer, **error_responses(400, 403, 409)},
    )
    def post(self, request, set_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        data = _valid(AcceptSerializer, request.data)
        if data["all"]:
            accepted = svc.suggestions_accept_all(annotation_set=aset, user=request.user,
                                                  expected_version=data["version"])
        else:
            accepted = svc.suggestions_accept(annotation_set=aset, keys=data["keys"],
                                              user=request.user,
                                              expected_version=data["version"])
        return Response({"version": aset.version, "spans": [s.pk for s in accepted.spans],
                         "relations": [r.pk for r in accepted.relations]})


@extend_schema(tags=["suggestions"])
class SetSuggestionsDismissView(WarrantAPIMixin, APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        summary="Dismiss suggestions in your own set",
        description="They do not come back in that set. Not an edit: no version needed.",
        request=DismissSerializer,
        responses={200: DismissedSerializer, **error_responses(400, 403)},
    )
    def post(self, request, set_id):
        aset = api_annotation_set_for_write(request.user, set_id)
        data = _valid(DismissSerializer, request.data)
        count = svc.suggestions_dismiss(annotation_set=aset, keys=data["keys"],
                                        user=request.user)
        return Response({"dismissed": count})
