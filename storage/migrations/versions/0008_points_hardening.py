"""points: one placed order per pickup code, wrong check-in codes counted per resident

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PLACED_ONLY = sa.text("status = 'placed'")


def upgrade() -> None:
    with op.batch_alter_table('mall_orders', schema=None) as batch_op:
        batch_op.create_index('uq_mall_orders_placed_pickup', ['community_id', 'pickup_code'], unique=True,
                              sqlite_where=PLACED_ONLY, postgresql_where=PLACED_ONLY)

    op.create_table('checkin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_checkin_failures_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_checkin_failures_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_failures'))
    )
    with op.batch_alter_table('checkin_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_failures_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_checkin_failures_resident', ['resident_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('checkin_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_failures_resident')
        batch_op.drop_index(batch_op.f('ix_checkin_failures_community_id'))
    op.drop_table('checkin_failures')
    with op.batch_alter_table('mall_orders', schema=None) as batch_op:
        batch_op.drop_index('uq_mall_orders_placed_pickup')
