# The rows live in AwardBatchRow (0011 copied them); dropped in a migration of its own, so that the
# copy's inserts are committed before the table is altered.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('badges', '0011_batch_rows_table'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='awardbatch',
            name='rows',
        ),
    ]
