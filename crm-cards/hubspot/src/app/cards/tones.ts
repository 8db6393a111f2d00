// dealreg's tones (CardTone) in HubSpot's component variants. The only mapping the card does.
import type { AlertProps, StatusTagProps, TagProps } from '@hubspot/ui-extensions';
import type { CardTone } from './card-view-model';

export const tagVariant: Record<CardTone, NonNullable<TagProps['variant']>> = {
  success: 'success',
  warning: 'warning',
  danger: 'error',
  info: 'info',
  neutral: 'default',
};

export const statusTagVariant: Record<CardTone, NonNullable<StatusTagProps['variant']>> = {
  success: 'success',
  warning: 'warning',
  danger: 'danger',
  info: 'info',
  neutral: 'default',
};

export const alertVariant: Record<CardTone, NonNullable<AlertProps['variant']>> = {
  success: 'success',
  warning: 'warning',
  danger: 'danger',
  info: 'info',
  neutral: 'info',
};
