"""console: the hand-off's last activity, notice templates kept in the console

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handoff_active_at', storage.models.UtcDateTime(timezone=True), nullable=True))

    op.create_table('notice_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('notice_kind', sa.String(length=32), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('updated_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_notice_templates_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_templates')),
    sa.UniqueConstraint('community_id', 'notice_kind', name=op.f('uq_notice_templates_community_id'))
    )
    with op.batch_alter_table('notice_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_templates_community_id'), ['community_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notice_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_templates_community_id'))

    op.drop_table('notice_templates')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('handoff_active_at')
