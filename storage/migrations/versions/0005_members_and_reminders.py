"""members and reminders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa
import storage.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('binding_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('building_ids', sa.JSON(), nullable=False),
    sa.Column('grid_ids', sa.JSON(), nullable=False),
    sa.Column('label', sa.String(length=50), nullable=True),
    sa.Column('issued_by', sa.String(length=50), nullable=True),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('used_by_resident_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_binding_codes_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by_resident_id'], ['residents.id'], name=op.f('fk_binding_codes_used_by_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_codes')),
    sa.UniqueConstraint('community_id', 'code', name=op.f('uq_binding_codes_community_id'))
    )
    with op.batch_alter_table('binding_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_binding_codes_community_id'), ['community_id'], unique=False)

    op.create_table('binding_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_binding_failures_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_failures'))
    )
    with op.batch_alter_table('binding_failures', schema=None) as batch_op:
        batch_op.create_index('ix_binding_failures_sender', ['community_id', 'openid', 'at'], unique=False)

    op.create_table('care_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('unit', sa.String(length=10), nullable=True),
    sa.Column('room', sa.String(length=20), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('member_resident_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('removed_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_care_households_building_id_buildings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_care_households_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_resident_id'], ['residents.id'], name=op.f('fk_care_households_member_resident_id_residents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_households'))
    )
    with op.batch_alter_table('care_households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_households_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_care_households_member', ['member_resident_id', 'active'], unique=False)

    op.create_table('visit_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('care_household_id', sa.Integer(), nullable=False),
    sa.Column('recurrence', sa.String(length=500), nullable=False),
    sa.Column('anchor', sa.Date(), nullable=False),
    sa.Column('delivery_hour', sa.SmallInteger(), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['care_household_id'], ['care_households.id'], name=op.f('fk_visit_schedules_care_household_id_care_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_visit_schedules_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_schedules'))
    )
    with op.batch_alter_table('visit_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_schedules_care_household_id'), ['care_household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_schedules_community_id'), ['community_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('care_household_id', sa.Integer(), nullable=False),
    sa.Column('member_resident_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('due_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('escalated_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('logged_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('logged_by_resident_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['care_household_id'], ['care_households.id'], name=op.f('fk_visits_care_household_id_care_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_visits_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['logged_by_resident_id'], ['residents.id'], name=op.f('fk_visits_logged_by_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_resident_id'], ['residents.id'], name=op.f('fk_visits_member_resident_id_residents'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['schedule_id'], ['visit_schedules.id'], name=op.f('fk_visits_schedule_id_visit_schedules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_visits_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits')),
    sa.UniqueConstraint('schedule_id', 'due_date', name=op.f('uq_visits_schedule_id'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_visits_household', ['care_household_id', 'due_date'], unique=False)
        batch_op.create_index('ix_visits_open', ['status', 'due_at'], unique=False)

    op.create_table('reminders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=32), nullable=False),
    sa.Column('openid', sa.String(length=64), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=True),
    sa.Column('due_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('quiet_start', sa.SmallInteger(), nullable=True),
    sa.Column('quiet_end', sa.SmallInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_until', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_reminders_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_reminders_resident_id_residents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_reminders_idempotency_key'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index('ix_reminders_due', ['status', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_reminders_recipient', ['community_id', 'openid', 'status'], unique=False)
        batch_op.create_index('ix_reminders_subject', ['community_id', 'subject'], unique=False)


def downgrade() -> None:
    # indexes go with their tables
    op.drop_table('reminders')
    op.drop_table('visits')
    op.drop_table('visit_schedules')
    op.drop_table('care_households')
    op.drop_table('binding_failures')
    op.drop_table('binding_codes')
