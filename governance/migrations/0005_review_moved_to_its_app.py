
from django.db import migrations


class Migration(migrations.Migration):
    """
    The data-ethics board and its review moved to the review app: governance forgets the models,
    their tables stay where they are (review/migrations/0001 takes them over as they are, and
    0002 renames them).
    """

    dependencies = [
        ('governance', '0004_review_attachments'),
        ('review', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='reviewassignment',
                    name='reviewer',
                ),
                migrations.RemoveField(
                    model_name='reviewassignment',
                    name='role',
                ),
                migrations.RemoveField(
                    model_name='reviewassignment',
                    name='ticket',
                ),
                migrations.RemoveField(
                    model_name='reviewvote',
                    name='assignment',
                ),
                migrations.RemoveField(
                    model_name='reviewattachment',
                    name='ticket',
                ),
                migrations.RemoveField(
                    model_name='reviewattachment',
                    name='uploaded_by',
                ),
                migrations.RemoveField(
                    model_name='reviewcomment',
                    name='author',
                ),
                migrations.RemoveField(
                    model_name='reviewcomment',
                    name='ticket',
                ),
                migrations.RemoveField(
                    model_name='reviewround',
                    name='ticket',
                ),
                migrations.RemoveField(
                    model_name='reviewticket',
                    name='categories',
                ),
                migrations.RemoveField(
                    model_name='reviewticket',
                    name='consortium',
                ),
                migrations.RemoveField(
                    model_name='reviewticket',
                    name='filed_by',
                ),
                migrations.RemoveField(
                    model_name='reviewticket',
                    name='purpose',
                ),
                migrations.RemoveField(
                    model_name='reviewticket',
                    name='recipients',
                ),
                migrations.RemoveField(
                    model_name='reviewticket',
                    name='requester',
                ),
                migrations.RemoveField(
                    model_name='reviewvote',
                    name='ticket',
                ),
                migrations.DeleteModel(
                    name='EthicsBoard',
                ),
                migrations.DeleteModel(
                    name='ReviewAssignment',
                ),
                migrations.DeleteModel(
                    name='ReviewAttachment',
                ),
                migrations.DeleteModel(
                    name='ReviewComment',
                ),
                migrations.DeleteModel(
                    name='ReviewRound',
                ),
                migrations.DeleteModel(
                    name='ReviewTicket',
                ),
                migrations.DeleteModel(
                    name='ReviewVote',
                ),
            ],
            database_operations=[],
        ),
    ]
