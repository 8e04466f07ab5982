import type { LicenseSection } from '../policy/license-section.js';
import type { RemindRepeat } from '../policy/remind-repeat.js';

/** The columns of a Licences row that every reader of it maps the same way. */
export interface LicenseSettingsColumns {
  group_id: number;
  name: string;
  restrictions: number;
  virtual_numbers: number;
  mobile_apps: number;
  validity: number;
  valid_from: number | null;
  valid_until: number | null;
  remind_days: number | null;
  remind_repeat: RemindRepeat;
}

/** A Licences row (joined with its group's name) as settings; shared with the lifecycle store. */
export function licenseSettingsOf(r: LicenseSettingsColumns): LicenseSection & { readonly groupId: number; readonly group: string } {
  return {
    groupId: r.group_id,
    group: r.name,
    restrictions: r.restrictions === 1,
    virtualNumbers: r.virtual_numbers,
    mobileApps: r.mobile_apps,
    validity: r.validity === 1,
    validFrom: r.valid_from,
    validUntil: r.valid_until,
    remindDays: r.remind_days,
    remindRepeat: r.remind_repeat,
  };
}
