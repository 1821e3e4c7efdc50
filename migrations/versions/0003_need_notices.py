"""need notices

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 03:52:42.739618

"""
from alembic import op
import sqlalchemy as sa

import portal.models.types


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('need_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_item_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('created_at', portal.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_item_id'], ['plan_items.id'], name=op.f('fk_need_notices_plan_item_id_plan_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_need_notices_session_id_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_need_notices')),
    sa.UniqueConstraint('plan_item_id', 'session_id', name=op.f('uq_need_notices_plan_item_id_session_id'))
    )
    with op.batch_alter_table('need_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_need_notices_session_id'), ['session_id'], unique=False)



def downgrade():
    with op.batch_alter_table('need_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_need_notices_session_id'))

    op.drop_table('need_notices')
