package simulator

import (
	"net/http"
	"slices"
	"sort"
)

// Limits of GET /tags.
const (
	tagSourceSessions = 1000
	maxTags           = 200
)

// agentJSON is the contract's Agent object.
type agentJSON struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"displayName"`
	Role        string `json:"role"`
	Disabled    bool   `json:"disabled"`
	JoinedAt    stamp  `json:"joinedAt"`
}

// listAgents serves GET /agents.
func (s *Server) listAgents(c *call) (reply, *apiError) {
	role := c.query.Get("role")
	if c.query.Has("role") {
		if err := oneOf("role", role, agentRoles); err != nil {
			return reply{}, err
		}
	}
	includeDisabled, err := queryBool(c, "includeDisabled")
	if err != nil {
		return reply{}, err
	}
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		agents := []agentJSON{}
		for _, a := range o.agents {
			if (a.disabled && !includeDisabled) || (role != "" && a.role != role) {
				continue
			}
			agents = append(agents, agentJSON{
				ID: a.id, Email: a.email, DisplayName: a.displayName,
				Role: a.role, Disabled: a.disabled, JoinedAt: stamp(a.joinedAt),
			})
		}
		return ok(http.StatusOK, map[string]any{"agents": agents, "total": len(agents)})
	})
}

// queryBool reads a boolean query parameter that defaults to false.
func queryBool(c *call, name string) (bool, *apiError) {
	switch v := c.query.Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, invalidField("%s must be true or false, got %q", name, v)
	}
}

// creditBalanceJSON is the contract's CreditBalance.
type creditBalanceJSON struct {
	Available    int `json:"available"`
	Subscription struct {
		Remaining int    `json:"remaining"`
		Quota     int    `json:"quota"`
		ResetsAt  *stamp `json:"resetsAt"`
	} `json:"subscription"`
	Pack struct {
		Remaining int `json:"remaining"`
	} `json:"pack"`
}

// getCredits serves GET /credits.
func (s *Server) getCredits(c *call) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		var out creditBalanceJSON
		out.Available = o.credits.available()
		out.Subscription.Remaining = o.credits.subscriptionRemaining
		out.Subscription.Quota = o.credits.subscriptionQuota
		out.Subscription.ResetsAt = stampPtr(o.credits.resetsAt)
		out.Pack.Remaining = o.credits.pack
		return ok(http.StatusOK, out)
	})
}

// orgCreditsJSON is the credits object of the organization and verify
// responses.
type orgCreditsJSON struct {
	Available           int `json:"available"`
	SubscriptionCredits int `json:"subscriptionCredits"`
	PackCredits         int `json:"packCredits"`
}

// creditsJSON returns the organization's credits object.
func (o *org) creditsJSON() orgCreditsJSON {
	return orgCreditsJSON{
		Available:           o.credits.available(),
		SubscriptionCredits: o.credits.subscriptionRemaining,
		PackCredits:         o.credits.pack,
	}
}

// organizationJSON is the contract's OrganizationInfo.
type organizationJSON struct {
	ID           string         `json:"id"`
	Name         *string        `json:"name"`
	Slug         *string        `json:"slug"`
	MembersCount int            `json:"membersCount"`
	Plan         planInfo       `json:"plan"`
	Features     features       `json:"features"`
	Credits      orgCreditsJSON `json:"credits"`
}

// getOrganization serves GET /organization.
func (s *Server) getOrganization(c *call) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		members := 0
		for _, a := range o.agents {
			if !a.disabled {
				members++
			}
		}
		return ok(http.StatusOK, organizationJSON{
			ID: o.id, Name: strOrNil(o.name), Slug: strOrNil(o.slug), MembersCount: members,
			Plan: o.plan, Features: o.features, Credits: o.creditsJSON(),
		})
	})
}

// verifyJSON is the data of GET /auth/verify.
type verifyJSON struct {
	OrganizationID   string  `json:"organizationId"`
	OrganizationName *string `json:"organizationName"`
	Key              struct {
		ID     string  `json:"id"`
		Name   *string `json:"name"`
		Prefix *string `json:"prefix"`
	} `json:"key"`
	Plan     planInfo       `json:"plan"`
	Features features       `json:"features"`
	Credits  orgCreditsJSON `json:"credits"`
}

// verifyKey serves GET /auth/verify.
func (s *Server) verifyKey(c *call) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		out := verifyJSON{
			OrganizationID: o.id, OrganizationName: strOrNil(o.name),
			Plan: o.plan, Features: o.features, Credits: o.creditsJSON(),
		}
		out.Key.ID = c.key.id
		out.Key.Name = strOrNil(c.key.name)
		out.Key.Prefix = ptr(c.key.prefix())
		return ok(http.StatusOK, out)
	})
}

// closureTypeJSON is one item of GET /closure-types.
type closureTypeJSON struct {
	ID             string  `json:"id"`
	Name           string  `json:"name"`
	Icon           *string `json:"icon"`
	Color          *string `json:"color"`
	RequireComment bool    `json:"requireComment"`
}

// listClosureTypes serves GET /closure-types.
func (s *Server) listClosureTypes(c *call) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		types := []closureTypeJSON{}
		for _, ct := range o.closureTypes {
			types = append(types, closureTypeJSON{
				ID: ct.id, Name: ct.name, Icon: ct.icon, Color: ct.color,
				RequireComment: ct.requireComment,
			})
		}
		return ok(http.StatusOK, map[string]any{"closureTypes": types})
	})
}

// listTags serves GET /tags: the unique session tags of the 1000 newest
// sessions, sorted, at most 200.
func (s *Server) listTags(c *call) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		newest := slices.Clone(o.sessions)
		sortSessions(newest, false)
		seen := map[string]bool{}
		for _, sess := range newest[:min(len(newest), tagSourceSessions)] {
			for _, tag := range sess.tags {
				seen[tag] = true
			}
		}
		tags := make([]string, 0, len(seen))
		for tag := range seen {
			tags = append(tags, tag)
		}
		sort.Strings(tags)
		tags = tags[:min(len(tags), maxTags)]
		return ok(http.StatusOK, map[string]any{"tags": tags, "total": len(tags)})
	})
}
