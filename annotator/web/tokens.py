"""The API token page: create (shown once), regenerate and revoke one's token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from annotator.services.tokens import (
    api_token_create,
    api_token_get,
    api_token_prefix,
    api_token_revoke,
)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            # Rendered in this response only, never stored in a message or the
            # session: reloading the page does not show it again.
            new_key = api_token_create(user=request.user).key
        elif action == "revoke":
            if api_token_revoke(user=request.user):
                messages.success(request, "Your API token is revoked: it no longer works.")
            else:
                messages.info(request, "You had no API token.")
            return redirect("api-tokens")
        else:
            messages.error(request, "Choose to create or to revoke a token.")
            return redirect("api-tokens")
    token = api_token_get(user=request.user)
    context = {
        "token": token,
        "prefix": api_token_prefix(token) if token else "",
        "new_key": new_key,
    }
    return render(request, "annotator/tokens.html", context)
