package simulator

import (
	"testing"
	"time"
)

func TestTrimSessionsDropsFinalFirst(t *testing.T) {
	t.Parallel()
	st := newFixture(1, testStart)
	o := st.orgOrder[0]
	a := o.agents[2]
	oldestPending := o.sessions[0]
	oldestPending.status = "pending"
	firstFinal := o.sessions[1]
	firstFinal.status = "completed"
	for len(o.sessions) < maxSessionsPerOrg {
		st.addSession(o, a, sessionInput{mode: "camera", ttlMinutes: 5}, "api", testStart)
	}
	st.addSession(o, a, sessionInput{mode: "camera", ttlMinutes: 5}, "api", testStart.Add(time.Second))

	others := len(st.orgOrder[1].sessions)
	if len(o.sessions) != maxSessionsPerOrg || len(st.sessions) != maxSessionsPerOrg+others {
		t.Fatalf("%d sessions in the org and %d in the index, want %d and %d",
			len(o.sessions), len(st.sessions), maxSessionsPerOrg, maxSessionsPerOrg+others)
	}
	if st.sessions[firstFinal.id] != nil {
		t.Error("the oldest final session was kept")
	}
	if st.sessions[oldestPending.id] == nil {
		t.Error("a pending session was dropped before a final one")
	}
}

func TestTrimAppointmentsDropsClosedFirst(t *testing.T) {
	t.Parallel()
	st := newFixture(1, testStart)
	o := st.orgOrder[0]
	for i := range maxAppointmentsPerOrg + 1 {
		a := &appointment{id: st.newID("apt_", 10), orgID: o.id, status: "scheduled"}
		if i == 1 {
			a.status = "cancelled"
		}
		st.appointments[a.id] = a
		o.appointments = append(o.appointments, a)
	}
	first, cancelled := o.appointments[0], o.appointments[1]
	st.trimAppointments(o)
	if len(o.appointments) != maxAppointmentsPerOrg || st.appointments[cancelled.id] != nil ||
		st.appointments[first.id] == nil {
		t.Errorf("trim kept %d appointments; cancelled dropped %v, first kept %v",
			len(o.appointments), st.appointments[cancelled.id] == nil, st.appointments[first.id] != nil)
	}
}
