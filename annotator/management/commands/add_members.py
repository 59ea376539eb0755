from django.core.management.base import CommandError

from annotator.models import Role
from annotator.services.members import members_add, members_add_from_rows, parse_members_csv

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = "Give users a role in a project: existing users by name, or a CSV of "\
           "username,email,password (new users are created)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("usernames", nargs="*", metavar="USERNAME")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--csv", metavar="FILE")

    def handle(self, *args, slug, usernames, role, csv, **options):
        project = get_project(slug)
        if bool(usernames) == bool(csv):
            raise CommandError("give either USERNAME... or --csv FILE")
        if csv:
            try:
                with open(csv, encoding="utf-8-sig", newline="") as fh:
                    data = fh.read()
            except OSError as exc:
                raise CommandError(f"{csv}: {exc.strerror}") from None
            rows = parse_members_csv(data, source=csv)
            report = members_add_from_rows(project=project, role=role, rows=rows, source=csv)
        else:
            report = members_add(project=project, role=role, usernames=usernames)
        for label, names in (
            ("created users", report.users_created),
            (f"added as {role}", report.added),
            (f"changed role to {role}", report.role_changed),
            ("already members", report.unchanged),
        ):
            if names:
                self.stdout.write(f"{label}: {', '.join(names)}")
