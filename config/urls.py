from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from annotator.web.health import healthz
from annotator.web.icons import favicon
from annotator.web.security import login_throttled

urlpatterns = [
    # Load balancers and compose.yaml's healthcheck: no log-in, no session (annotator.web.health).
    path("healthz", healthz, name="healthz"),
    # Browsers ask for it at the root on every origin (annotator.web.icons).
    path("favicon.ico", favicon, name="favicon"),
    # Both password forms answer a throttled attempt with a 429 page (annotator.web.security).
    path("admin/login/", login_throttled(admin.site.login)),
    path("admin/", admin.site.urls),
    # Before the include below, which holds the same path unwrapped: the first match wins.
    path("accounts/login/", login_throttled(auth_views.LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: the CSP forbids inline scripts.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="drf_spectacular/swagger_ui_csp.html"
        ),
        name="api-docs",
    ),
    path("api/", include("annotator.api.urls")),
    path("", include("annotator.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "annotator.web.errors.page_not_found"
