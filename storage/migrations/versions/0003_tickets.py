"""tickets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_counters',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_ticket_counters_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('community_id', 'day', name=op.f('pk_ticket_counters'))
    )

    op.create_table('grid_workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_grid_workers_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_grid_workers_grid_id_grids'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_grid_workers_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_workers')),
    sa.UniqueConstraint('resident_id', 'grid_id', name=op.f('uq_grid_workers_resident_id'))
    )

    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_workers_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grid_workers_grid_id'), ['grid_id'], unique=False)

    op.create_table('member_household_buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_member_household_buildings_building_id_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_member_household_buildings_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_member_household_buildings_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_household_buildings')),
    sa.UniqueConstraint('resident_id', 'building_id', name=op.f('uq_member_household_buildings_resident_id'))
    )

    with op.batch_alter_table('member_household_buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_household_buildings_building_id'), ['building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_household_buildings_community_id'), ['community_id'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=10), nullable=True),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('outdoor', sa.Boolean(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('phone_consent', sa.Boolean(), nullable=False),
    sa.Column('reporter_resident_id', sa.Integer(), nullable=True),
    sa.Column('assignee_resident_id', sa.Integer(), nullable=True),
    sa.Column('assignee_team', sa.String(length=32), nullable=True),
    sa.Column('sla_rule', sa.String(length=32), nullable=True),
    sa.Column('respond_due_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('resolve_due_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('supervised_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('feedback_requested_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('closed_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=160), nullable=True),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_resident_id'], ['residents.id'], name=op.f('fk_tickets_assignee_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_tickets_building_id_buildings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_tickets_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_tickets_grid_id_grids'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_resident_id'], ['residents.id'], name=op.f('fk_tickets_reporter_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('community_id', 'number', name=op.f('uq_tickets_community_id')),
    sa.UniqueConstraint('community_id', 'source_key', name='uq_tickets_source_key')
    )

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_tickets_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_open', ['community_id', 'status', 'category'], unique=False)

    op.create_table('ticket_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('media_id', sa.String(length=128), nullable=True),
    sa.Column('url', sa.String(length=512), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('added_by_kind', sa.String(length=16), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_ticket_attachments_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_attachments_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_attachments'))
    )

    with op.batch_alter_table('ticket_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_attachments_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_attachments_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=50), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_ticket_events_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_community_at', ['community_id', 'at'], unique=False)
        batch_op.create_index('ix_ticket_events_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('ticket_reporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('original', sa.Boolean(), nullable=False),
    sa.Column('joined_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('rated_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_ticket_reporters_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_ticket_reporters_resident_id_residents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_reporters_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_reporters')),
    sa.UniqueConstraint('ticket_id', 'resident_id', name=op.f('uq_ticket_reporters_ticket_id'))
    )

    with op.batch_alter_table('ticket_reporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_reporters_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_ticket_reporters_resident', ['resident_id', 'ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_reporters', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_reporters_resident')
        batch_op.drop_index(batch_op.f('ix_ticket_reporters_community_id'))

    op.drop_table('ticket_reporters')

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_ticket')
        batch_op.drop_index('ix_ticket_events_community_at')

    op.drop_table('ticket_events')

    with op.batch_alter_table('ticket_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_attachments_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_ticket_attachments_community_id'))

    op.drop_table('ticket_attachments')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_open')
        batch_op.drop_index('ix_tickets_created')
        batch_op.drop_index(batch_op.f('ix_tickets_community_id'))

    op.drop_table('tickets')

    with op.batch_alter_table('member_household_buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_household_buildings_community_id'))
        batch_op.drop_index(batch_op.f('ix_member_household_buildings_building_id'))

    op.drop_table('member_household_buildings')

    with op.batch_alter_table('grid_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_workers_grid_id'))
        batch_op.drop_index(batch_op.f('ix_grid_workers_community_id'))

    op.drop_table('grid_workers')

    op.drop_table('ticket_counters')
