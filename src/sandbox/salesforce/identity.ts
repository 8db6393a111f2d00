// The identity URL (`/id/{orgId}/{userId}`) and OpenID `userinfo` bodies.
import type { Org } from './org';
import { formatDateTime } from './values';

export function identityBody(baseUrl: string, org: Org, userId: string): Record<string, unknown> {
  const u = org.table('User').get(userId)!;
  const v = '{version}';
  return {
    id: `${baseUrl}/id/${org.id}/${userId}`,
    asserted_user: true,
    user_id: userId,
    organization_id: org.id,
    username: u.Username,
    nick_name: String(u.Username).split('@')[0],
    display_name: u.Name,
    email: u.Email,
    email_verified: true,
    first_name: u.FirstName ?? null,
    last_name: u.LastName,
    timezone: u.TimeZoneSidKey,
    photos: { picture: `${baseUrl}/profilephoto/005/F`, thumbnail: `${baseUrl}/profilephoto/005/T` },
    addr_street: null,
    addr_city: null,
    addr_state: null,
    addr_country: null,
    addr_zip: null,
    mobile_phone: null,
    mobile_phone_verified: false,
    is_lightning_login_user: false,
    status: { created_date: null, body: null },
    urls: {
      enterprise: `${baseUrl}/services/Soap/c/${v}/${org.id}`,
      metadata: `${baseUrl}/services/Soap/m/${v}/${org.id}`,
      partner: `${baseUrl}/services/Soap/u/${v}/${org.id}`,
      rest: `${baseUrl}/services/data/v${v}/`,
      sobjects: `${baseUrl}/services/data/v${v}/sobjects/`,
      search: `${baseUrl}/services/data/v${v}/search/`,
      query: `${baseUrl}/services/data/v${v}/query/`,
      recent: `${baseUrl}/services/data/v${v}/recent/`,
      profile: `${baseUrl}/${userId}`,
      custom_domain: baseUrl,
    },
    active: u.IsActive === true,
    user_type: String(u.UserType ?? 'Standard').toUpperCase() === 'STANDARD' ? 'STANDARD' : String(u.UserType).toUpperCase(),
    language: u.LanguageLocaleKey,
    locale: u.LocaleSidKey,
    utcOffset: 0,
    last_modified_date: formatDateTime(u.LastModifiedDate as number),
    is_app_installed: true,
  };
}

export function userInfoBody(baseUrl: string, org: Org, userId: string): Record<string, unknown> {
  const u = org.table('User').get(userId)!;
  return {
    sub: `${baseUrl}/id/${org.id}/${userId}`,
    user_id: userId,
    organization_id: org.id,
    preferred_username: u.Username,
    nickname: String(u.Username).split('@')[0],
    name: u.Name,
    email: u.Email,
    email_verified: true,
    given_name: u.FirstName ?? null,
    family_name: u.LastName,
    zoneinfo: u.TimeZoneSidKey,
    active: u.IsActive === true,
    user_type: 'STANDARD',
    language: u.LanguageLocaleKey,
    locale: u.LocaleSidKey,
    utcOffset: 0,
    updated_at: new Date(u.LastModifiedDate as number).toISOString(),
    is_app_installed: true,
  };
}
