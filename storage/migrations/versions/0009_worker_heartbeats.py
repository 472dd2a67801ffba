"""server processes' heartbeats, and which process runs each claimed message

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('server_workers',
    sa.Column('id', sa.String(length=96), nullable=False),
    sa.Column('started_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_server_workers'))
    )
    with op.batch_alter_table('server_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_server_workers_seen_at'), ['seen_at'], unique=False)

    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker', sa.String(length=96), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('processed_messages', schema=None) as batch_op:
        batch_op.drop_column('worker')

    with op.batch_alter_table('server_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_server_workers_seen_at'))

    op.drop_table('server_workers')
