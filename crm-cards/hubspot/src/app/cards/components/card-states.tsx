// The card before and besides a registration: loading, no partner on the deal, dealreg unreachable.
import { Button, EmptyState, ErrorState, LoadingSpinner, Text } from '@hubspot/ui-extensions';

export function LoadingCard() {
  return <LoadingSpinner testId="loading" label="Loading partner attribution…" showLabel={true} layout="centered" />;
}

export function EmptyCard({ title, message }: { title: string; message: string }) {
  return (
    <EmptyState testId="empty" title={title} imageName="deals" layout="vertical" flush={true}>
      <Text>{message}</Text>
    </EmptyState>
  );
}

export function LoadErrorCard({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <ErrorState testId="load-error" title="Partner attribution could not be loaded">
      <Text>{message}</Text>
      <Button testId="retry" variant="secondary" onClick={onRetry}>
        Retry
      </Button>
    </ErrorState>
  );
}
