// The actions dealreg lists for this user, and nothing else. An action that requires a reason (reject)
// asks for it first and sends it; a failed action shows dealreg's message and leaves the view as it was.
import { useState } from 'react';
import { Alert, Button, ButtonRow, Flex, Text, TextArea } from '@hubspot/ui-extensions';
import type { CardAction } from '../card-view-model';

export interface RegistrationActionsProps {
  actions: CardAction[];
  actionsNote: string | null;
  /** The action being sent, if any: its button waits, the others are disabled. */
  pending: CardAction['id'] | null;
  /** The last action's failure, in dealreg's words. */
  error: { label: string; message: string } | null;
  onRun: (action: CardAction, reason?: string) => void;
}

export function RegistrationActions({ actions, actionsNote, pending, error, onRun }: RegistrationActionsProps) {
  const [asking, setAsking] = useState<CardAction | null>(null);
  const [reason, setReason] = useState('');
  const [reasonMissing, setReasonMissing] = useState(false);

  const start = (action: CardAction) => {
    if (!action.requiresReason) return onRun(action);
    setAsking(action);
    setReason('');
    setReasonMissing(false);
  };
  const confirm = () => {
    if (!asking) return;
    const text = reason.trim();
    if (!text) return setReasonMissing(true);
    onRun(asking, text);
  };

  return (
    <Flex direction="column" gap="small">
      {error && (
        <Alert testId="action-error" title={`${error.label} failed`} variant="danger">
          {error.message}
        </Alert>
      )}
      {actions.length > 0 && !asking && (
        <ButtonRow disableDropdown={true}>
          {actions.map((action) => (
            <Button
              key={action.id}
              testId={`action-${action.id}`}
              variant={action.id === 'reject' ? 'destructive' : 'primary'}
              disabled={pending !== null}
              onClick={() => start(action)}
            >
              {pending === action.id ? `${action.label}…` : action.label}
            </Button>
          ))}
        </ButtonRow>
      )}
      {asking && (
        <Flex direction="column" gap="extra-small">
          <TextArea
            testId="reason"
            name="reason"
            label={`Reason (${asking.label})`}
            description="dealreg records it and shows it to the partner."
            required={true}
            maxLength={2000}
            value={reason}
            error={reasonMissing}
            validationMessage={reasonMissing ? 'A reason is required.' : undefined}
            onChange={(value) => {
              setReason(value);
              if (value.trim()) setReasonMissing(false);
            }}
          />
          <ButtonRow disableDropdown={true}>
            <Button testId="confirm-reason" variant={asking.id === 'reject' ? 'destructive' : 'primary'} disabled={pending !== null} onClick={confirm}>
              {pending === asking.id ? `${asking.label}…` : asking.label}
            </Button>
            <Button testId="cancel-reason" variant="secondary" disabled={pending !== null} onClick={() => setAsking(null)}>
              Cancel
            </Button>
          </ButtonRow>
        </Flex>
      )}
      {actions.length === 0 && actionsNote && (
        <Text testId="actions-note" variant="microcopy">
          {actionsNote}
        </Text>
      )}
    </Flex>
  );
}
