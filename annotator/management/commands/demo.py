from annotator.services.demo import DEMO_SLUG, demo_create

from ._base import WarrantCommand


class Command(WarrantCommand):
    help = "Create the demo project (a sample brief, an instructor, three students) "\
           "and print the accounts' passwords."

    def add_arguments(self, parser):
        parser.add_argument("--password", help="use this password for every demo account "
                                               "instead of random ones")

    def handle(self, *args, password, **options):
        accounts = demo_create(password=password)
        verb = "created" if accounts.created else "already there; passwords reset"
        self.stdout.write(f"demo project '{DEMO_SLUG}' {verb}")
        for username, pw in accounts.passwords.items():
            role = "instructor (manager)" if username == "instructor" else "student (annotator)"
            self.stdout.write(f"  {username:<11} {pw:<16} {role}")
