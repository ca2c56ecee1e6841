package query

import (
	"github.com/mailtrail/mailtrail/pkg/apiv1"
	"github.com/mailtrail/mailtrail/pkg/offenders"
)

// Offenders filters the tracker's offenders for the caller: a tenant sees
// only its own users (an address's reputation is not a tenant's), and a
// caller without addresses sees users by pseudonym.
func Offenders(list []offenders.Offender, a Access) []apiv1.Offender {
	out := make([]apiv1.Offender, 0, len(list))
	for _, o := range list {
		if a.scoped() && (o.Scope == offenders.ScopeIP || !a.inTenants(o.Key)) {
			continue
		}
		if a.Redact != nil && o.Scope != offenders.ScopeIP {
			o.Key = a.Redact.User(o.Key)
		}
		out = append(out, apiv1.Offender{Scope: string(o.Scope), Key: o.Key, Count: o.Count, Peak: o.Peak,
			FirstSeen: o.FirstSeen, LastSeen: o.LastSeen, AfterFailures: o.AfterFailures, Active: o.Active})
	}
	return out
}
