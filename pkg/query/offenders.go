package query

import "github.com/mailtrail/mailtrail/pkg/offenders"

// Offenders filters the tracker's offenders for the caller: a tenant sees
// only its own users (an address's reputation is not a tenant's), and a
// caller without addresses sees users by pseudonym.
func Offenders(list []offenders.Offender, a Access) []offenders.Offender {
	out := make([]offenders.Offender, 0, len(list))
	for _, o := range list {
		if a.scoped() && (o.Scope == offenders.ScopeIP || !a.inTenants(o.Key)) {
			continue
		}
		if a.Redact != nil && o.Scope != offenders.ScopeIP {
			o.Key = a.Redact.User(o.Key)
		}
		out = append(out, o)
	}
	return out
}
