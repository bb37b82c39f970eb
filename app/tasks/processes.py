"""Process versions: moving running cases to another version in the background."""
from celery import shared_task

from app.services import process_migration


@shared_task(name="processes.migrate")
def migrate(migration_id: int) -> dict:
    """Run a requested move (a ProcessMigration row) in batches, saving its progress after each."""
    return process_migration.run(migration_id)
