import os
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

from annotator.services.backup import project_backup

from ._base import WarrantCommand, get_project


class Command(WarrantCommand):
    help = (
        "Back a project up to one file: documents, schema, members (with their password "
        "hashes: keep the file safe), annotation sets, gold, undo history and agreement runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", required=True, metavar="FILE",
                            help="the backup file to write (gzip-compressed JSON Lines)")
        parser.add_argument("--force", action="store_true",
                            help="replace FILE if it exists")

    def handle(self, *args, slug, output, force, **options):
        project = get_project(slug)
        path = Path(output)
        if path.is_dir():
            raise CommandError(f"{path} is a directory: give the backup file's name")
        if path.exists() and not force:
            raise CommandError(f"{path} exists already: use --force to replace it")
        if not path.parent.is_dir():
            raise CommandError(f"folder {path.parent} does not exist")
        # Written beside the target and renamed when complete, so that a failed
        # backup leaves no partial file; mkstemp makes it readable by its owner
        # only, which suits a file that holds password hashes.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as out:
                report = project_backup(project, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        size = path.stat().st_size
        self.stdout.write(
            f"backed up {project.slug} to {path} ({size:,} bytes): {report.summary()}"
        )
