
import django.db.models.deletion
import review.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    """
    The data-ethics board and its review, until now the governance app's: their tables exist
    already (governance 0002 to 0004 made them), so this takes them over in the migration state
    only, under their former names; 0002 renames them.
    """

    initial = True

    dependencies = [
        ('consent', '0006_batch_ids_as_lines'),
        ('governance', '0004_review_attachments'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ReviewTicket',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=200, verbose_name='title')),
                        ('service_name', models.CharField(max_length=200, verbose_name='service')),
                        ('proposed_purpose_title', models.CharField(blank=True, max_length=200, verbose_name='proposed purpose')),
                        ('proposed_purpose_explanation', models.TextField(blank=True, verbose_name='proposed purpose: plain-language explanation')),
                        ('third_party_provision', models.BooleanField(default=False, verbose_name='third-party provision (第三者提供)')),
                        ('legal_basis', models.CharField(choices=[('consent', "the resident's consent (opt-in)")], default='consent', max_length=16, verbose_name='legal basis')),
                        ('retention_days', models.PositiveIntegerField(blank=True, null=True, verbose_name='retention (days)')),
                        ('deletion_method', models.TextField(blank=True, verbose_name='deletion at the end of retention')),
                        ('security_measures', models.TextField(blank=True, verbose_name='security measures (安全管理措置)')),
                        ('anonymisation', models.CharField(choices=[('none', 'none: identifiable data'), ('pseudonymised', 'pseudonymised (仮名加工情報)'), ('anonymised', 'anonymised (匿名加工情報)'), ('statistical', 'statistics only')], default='none', max_length=16, verbose_name='anonymisation or pseudonymisation')),
                        ('anonymisation_details', models.TextField(blank=True, verbose_name='how the data are processed')),
                        ('cross_border_transfer', models.BooleanField(default=False, verbose_name='cross-border transfer')),
                        ('cross_border_details', models.TextField(blank=True, verbose_name='cross-border transfer: countries and safeguards')),
                        ('pia', models.JSONField(blank=True, default=list, verbose_name='privacy impact assessment')),
                        ('state', models.CharField(choices=[('draft', 'draft'), ('submitted', 'submitted'), ('in_review', 'in review'), ('changes_requested', 'changes requested'), ('approved', 'approved'), ('rejected', 'rejected'), ('suspended', 'suspended'), ('closed', 'closed')], default='draft', editable=False, max_length=20, verbose_name='state')),
                        ('round', models.PositiveSmallIntegerField(default=0, editable=False, verbose_name='round')),
                        ('due_on', models.DateField(blank=True, editable=False, null=True, verbose_name='due')),
                        ('conditions', models.TextField(blank=True, editable=False, verbose_name='conditions')),
                        ('valid_from', models.DateField(blank=True, editable=False, null=True, verbose_name='approved from')),
                        ('valid_until', models.DateField(blank=True, editable=False, null=True, verbose_name='approved until')),
                        ('decided_at', models.DateTimeField(blank=True, editable=False, null=True, verbose_name='decided at')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                        ('categories', models.ManyToManyField(blank=True, related_name='review_tickets', to='consent.datacategory', verbose_name='data categories')),
                        ('consortium', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='review_tickets', to='governance.consortium', verbose_name='consortium')),
                        ('filed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='filed_review_tickets', to=settings.AUTH_USER_MODEL, verbose_name='filed by')),
                        ('purpose', models.ForeignKey(blank=True, help_text='An existing purpose; leave empty to propose a new one below.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='review_tickets', to='consent.purpose', verbose_name='purpose')),
                        ('recipients', models.ManyToManyField(blank=True, related_name='received_review_tickets', to='governance.organization', verbose_name='recipients')),
                        ('requester', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='review_requests', to='governance.organization', verbose_name='requesting organisation')),
                    ],
                    options={
                        'verbose_name': 'review ticket',
                        'verbose_name_plural': 'review tickets',
                        'db_table': 'governance_reviewticket',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewRound',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveSmallIntegerField(verbose_name='round')),
                        ('submitted_at', models.DateTimeField(verbose_name='submitted at')),
                        ('due_on', models.DateField(verbose_name='due')),
                        ('request', models.JSONField(verbose_name='request as submitted')),
                        ('outcome', models.CharField(blank=True, choices=[('draft', 'draft'), ('submitted', 'submitted'), ('in_review', 'in review'), ('changes_requested', 'changes requested'), ('approved', 'approved'), ('rejected', 'rejected'), ('suspended', 'suspended'), ('closed', 'closed')], max_length=20, verbose_name='outcome')),
                        ('reminded_at', models.DateTimeField(blank=True, null=True, verbose_name='reminder sent')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='rounds', to='review.reviewticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'review round',
                        'verbose_name_plural': 'review rounds',
                        'db_table': 'governance_reviewround',
                        'ordering': ['ticket', 'number'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewComment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('round', models.PositiveSmallIntegerField(verbose_name='round')),
                        ('kind', models.CharField(choices=[('comment', 'comment'), ('question', 'question'), ('answer', 'answer')], default='comment', max_length=16, verbose_name='kind')),
                        ('visibility', models.CharField(choices=[('board', 'board only'), ('requester', 'to the requester')], default='board', max_length=16, verbose_name='visible to')),
                        ('text', models.TextField(verbose_name='text')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='written at')),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='author')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='comments', to='review.reviewticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'review comment',
                        'verbose_name_plural': 'review comments',
                        'db_table': 'governance_reviewcomment',
                        'ordering': ['ticket', 'created_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewAttachment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('round', models.PositiveSmallIntegerField(verbose_name='round')),
                        ('file', models.FileField(max_length=200, upload_to=review.models.attachment_path, verbose_name='file')),
                        ('original_name', models.CharField(max_length=200, verbose_name='file name')),
                        ('content_type', models.CharField(choices=[('application/pdf', 'application/pdf'), ('image/png', 'image/png'), ('image/jpeg', 'image/jpeg')], max_length=32, verbose_name='type')),
                        ('size', models.PositiveIntegerField(verbose_name='size (bytes)')),
                        ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                        ('uploaded_at', models.DateTimeField(auto_now_add=True, verbose_name='uploaded at')),
                        ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='review.reviewticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'attachment',
                        'verbose_name_plural': 'attachments',
                        'db_table': 'governance_reviewattachment',
                        'ordering': ['ticket', 'uploaded_at', 'pk'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewAssignment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('recusal', models.CharField(blank=True, choices=[('', 'not recused'), ('requester', 'their organisation is the requester'), ('recipient', 'their organisation receives the data'), ('declared', 'declared a conflict of interest')], default='', max_length=16, verbose_name='recusal')),
                        ('conflict_declared_at', models.DateTimeField(blank=True, null=True, verbose_name='conflict declared at')),
                        ('has_conflict', models.BooleanField(default=False, verbose_name='has a conflict of interest')),
                        ('assigned_at', models.DateTimeField(auto_now_add=True, verbose_name='assigned at')),
                        ('reviewer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='review_assignments', to=settings.AUTH_USER_MODEL, verbose_name='reviewer')),
                        ('role', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='governance.role', verbose_name='board seat')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='assignments', to='review.reviewticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'reviewer assignment',
                        'verbose_name_plural': 'reviewer assignments',
                        'db_table': 'governance_reviewassignment',
                        'ordering': ['ticket', 'assigned_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ReviewVote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('round', models.PositiveSmallIntegerField(verbose_name='round')),
                        ('choice', models.CharField(choices=[('approve', 'approve'), ('approve_with_conditions', 'approve with conditions'), ('request_changes', 'request changes'), ('reject', 'reject'), ('abstain', 'abstain')], max_length=24, verbose_name='vote')),
                        ('conditions', models.TextField(blank=True, verbose_name='conditions')),
                        ('reason', models.TextField(blank=True, verbose_name='reason')),
                        ('cast_at', models.DateTimeField(auto_now_add=True, verbose_name='cast at')),
                        ('assignment', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='votes', to='review.reviewassignment', verbose_name='reviewer')),
                        ('ticket', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='votes', to='review.reviewticket', verbose_name='ticket')),
                    ],
                    options={
                        'verbose_name': 'review vote',
                        'verbose_name_plural': 'review votes',
                        'db_table': 'governance_reviewvote',
                        'ordering': ['ticket', 'round', 'cast_at'],
                    },
                ),
                migrations.CreateModel(
                    name='EthicsBoard',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name_ja', models.CharField(max_length=200, verbose_name='name (Japanese)')),
                        ('name_en', models.CharField(max_length=200, verbose_name='name (English)')),
                        ('quorum', models.PositiveSmallIntegerField(default=3, verbose_name='quorum (members)')),
                        ('legal_veto', models.BooleanField(default=False, verbose_name="a legal expert's reject is a veto")),
                        ('security_veto', models.BooleanField(default=False, verbose_name="a security expert's reject is a veto")),
                        ('review_days', models.PositiveSmallIntegerField(default=14, help_text="A round's due date, counted from its submission.", verbose_name='days for a review round')),
                        ('approval_term_days', models.PositiveSmallIntegerField(default=365, verbose_name='term of an approval (days)')),
                        ('consortium', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='ethics_board', to='governance.consortium', verbose_name='consortium')),
                    ],
                    options={
                        'verbose_name': 'ethics board',
                        'verbose_name_plural': 'ethics boards',
                        'db_table': 'governance_ethicsboard',
                        'constraints': [models.CheckConstraint(condition=models.Q(('quorum__gte', 1)), name='governance_ethicsboard_quorum_positive')],
                    },
                ),
                migrations.AddIndex(
                    model_name='reviewticket',
                    index=models.Index(fields=['consortium', 'state'], name='gov_ticket_queue'),
                ),
                migrations.AddConstraint(
                    model_name='reviewticket',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('state__in', ['approved', 'suspended']), _negated=True), models.Q(('valid_from__isnull', False), ('valid_until__isnull', False)), _connector='OR'), name='governance_reviewticket_approval_has_term'),
                ),
                migrations.AddConstraint(
                    model_name='reviewticket',
                    constraint=models.CheckConstraint(condition=models.Q(('valid_until__isnull', True), ('valid_until__gte', models.F('valid_from')), _connector='OR'), name='governance_reviewticket_term_order'),
                ),
                migrations.AddConstraint(
                    model_name='reviewround',
                    constraint=models.UniqueConstraint(fields=('ticket', 'number'), name='governance_round_unique'),
                ),
                migrations.AddConstraint(
                    model_name='reviewcomment',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'answer'), _negated=True), ('visibility', 'requester'), _connector='OR'), name='governance_comment_answer_visible'),
                ),
                migrations.AddConstraint(
                    model_name='reviewassignment',
                    constraint=models.UniqueConstraint(fields=('ticket', 'reviewer'), name='governance_assignment_unique', violation_error_message='This reviewer is already assigned to the ticket.'),
                ),
                migrations.AddConstraint(
                    model_name='reviewvote',
                    constraint=models.UniqueConstraint(fields=('assignment', 'round'), name='governance_reviewvote_one_per_round', violation_error_message='You have already voted in this round.'),
                ),
                migrations.AddConstraint(
                    model_name='reviewvote',
                    constraint=models.CheckConstraint(condition=models.Q(models.Q(('choice', 'approve_with_conditions'), _negated=True), models.Q(('conditions', ''), _negated=True), _connector='OR'), name='governance_reviewvote_conditions_written'),
                ),
            ],
            database_operations=[],
        ),
    ]
