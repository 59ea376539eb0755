from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from annotator.models import AnnotationSet, AnnotationStatus, Membership, Project, Role

from .errors import WarrantError
from .export_jobs import export_jobs_withdraw

CSV_COLUMNS = ("username", "email", "password")


@dataclass
class MembersReport:
    added: list[str] = field(default_factory=list)
    role_changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise WarrantError(f"unknown role {role!r} (roles: {', '.join(Role.values)})")


def _add(project: Project, user, role: str, report: MembersReport) -> None:
    membership, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role}
    )
    if created:
        report.added.append(user.username)
    elif membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        report.role_changed.append(user.username)
    else:
        report.unchanged.append(user.username)


@transaction.atomic
def members_add(*, project: Project, role: str, usernames: list[str]) -> MembersReport:
    """Give existing users a role in the project (changing it if they had another)."""
    _check_role(role)
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    missing = [name for name in usernames if name not in users]
    if missing:
        raise WarrantError(f"no such user: {', '.join(missing)}")
    report = MembersReport()
    for name in dict.fromkeys(usernames):
        _add(project, users[name], role, report)
    return report


def _check_email(email: str, where: str) -> None:
    """An e-mail address may be left empty; one that is given must be well formed."""
    if not email:
        return
    try:
        validate_email(email)
    except ValidationError:
        raise WarrantError(f"{where}: {email!r} is not a valid e-mail address") from None


def parse_members_csv(data: str, *, source: str = "CSV") -> list[dict[str, str]]:
    """Rows of username, email, password; a header line is optional."""
    rows = []
    reader = csv.reader(io.StringIO(data))
    for lineno, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if lineno == 1 and cells[0].lower() == "username":
            continue
        if len(cells) < 1 or not cells[0]:
            raise WarrantError(f"{source}:{lineno}: a row needs a username")
        cells += [""] * (3 - len(cells))
        _check_email(cells[1], f"{source}:{lineno}")
        rows.append({"line": lineno, **dict(zip(CSV_COLUMNS, cells[:3], strict=True))})
    if not rows:
        raise WarrantError(f"{source}: no members in the file")
    return rows


@transaction.atomic
def members_add_from_rows(
    *, project: Project, role: str, rows: list[dict], source: str = "CSV"
) -> MembersReport:
    """Add members from CSV rows, creating the users that do not exist yet."""
    _check_role(role)
    User = get_user_model()
    for row in rows:  # every row first: a bad one leaves the project as it was
        _check_email(row.get("email", ""), f"{source}:{row['line']}")
    report = MembersReport()
    for row in rows:
        username = row["username"]
        user = User.objects.filter(username=username).first()
        if user is None:
            if not row.get("password"):
                raise WarrantError(
                    f"{source}:{row['line']}: new user {username!r} needs a password"
                )
            user = User(username=username, email=row.get("email", ""))
            try:
                User.username_validator(username)
                validate_password(row["password"], user)
            except ValidationError as exc:
                raise WarrantError(f"{source}:{row['line']}: {' '.join(exc.messages)}") from None
            user.set_password(row["password"])
            user.save()
            report.users_created.append(username)
        _add(project, user, role, report)
    return report


def _last_manager(project: Project, membership: Membership) -> bool:
    return (
        membership.role == Role.MANAGER
        and not Membership.objects.filter(project=project, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _membership(project: Project, user) -> Membership:
    membership = (
        Membership.objects.select_for_update().filter(project=project, user=user).first()
    )
    if membership is None:
        raise WarrantError(f"{user.username} is not a member of this project")
    return membership


@transaction.atomic
def membership_role_change(*, project: Project, user, role: str) -> Membership:
    """Give a member another role. A project always keeps at least one manager."""
    _check_role(role)
    membership = _membership(project, user)
    if membership.role != role and _last_manager(project, membership):
        raise WarrantError(
            f"{user.username} is the project's only manager: make someone else a manager first"
        )
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        # What the old role could read leaves with it: the exports built for it.
        export_jobs_withdraw(project=project, user=user)
    return membership


@dataclass
class RemovalReport:
    username: str
    assignments_dropped: int  # untouched assignments deleted with the membership
    sets_kept: int  # annotation sets with work in them, kept as data


@transaction.atomic
def membership_remove(*, project: Project, user) -> RemovalReport:
    """Take a member out of the project.

    Their untouched assignments (assigned, nothing marked yet) are dropped so
    that the documents can be handed to someone else; annotation sets with
    work in them are kept: they are data, and curation or an export may use them.
    """
    membership = _membership(project, user)
    if _last_manager(project, membership):
        raise WarrantError(
            f"{user.username} is the project's only manager: make someone else a manager first"
        )
    sets = AnnotationSet.objects.filter(document__project=project, annotator=user)
    untouched = sets.filter(status=AnnotationStatus.ASSIGNED, spans__isnull=True)
    dropped = untouched.count()
    AnnotationSet.objects.filter(pk__in=list(untouched.values_list("pk", flat=True))).delete()
    kept = sets.count()
    membership.delete()
    export_jobs_withdraw(project=project, user=user)
    return RemovalReport(username=user.username, assignments_dropped=dropped, sets_kept=kept)


@dataclass
class JoinResult:
    project: Project
    membership: Membership
    joined: bool  # False: the user was a member already (their role is unchanged)


@transaction.atomic
def project_join_by_code(*, user, code: str) -> JoinResult:
    """Join the project whose join code is ``code``, as an annotator.

    A member who uses the code again keeps the role they have: a code never
    demotes a manager to a student.
    """
    code = (code or "").strip()
    project = Project.objects.filter(join_code=code).first() if code else None
    if project is None:
        raise WarrantError("no project has this join code: check it with your instructor")
    membership, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": Role.ANNOTATOR}
    )
    return JoinResult(project=project, membership=membership, joined=created)
