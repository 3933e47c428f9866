package server

import (
	"fmt"
	"net/url"
	"strings"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// checkCreateWebhook follows the upstream's order for POST /webhooks: the
// URL, then the events.
func checkCreateWebhook(c *checker, m *groundcamv1.CreateWebhookRequest) {
	checkWebhookURL(c, m.GetUrl())
	checkWebhookEvents(c, m.GetEvents())
}

// checkUpdateWebhook checks the fields that are set, then requires at least
// one, in the upstream's order.
func checkUpdateWebhook(c *checker, m *groundcamv1.UpdateWebhookRequest) {
	if m.Url != nil {
		checkWebhookURL(c, m.GetUrl())
	}
	if m.Events != nil {
		checkWebhookEvents(c, m.GetEvents().GetValues())
	}
	if m.Url == nil && m.Events == nil && m.Active == nil {
		c.add(violation{
			field:       "url",
			description: "no field to change is set; set url, events or active",
			reason:      reasonMissingField,
			message:     "At least one field is required: url, events, active",
		})
	}
}

// checkWebhookURL requires an absolute HTTPS URL, as the upstream parses
// it.
func checkWebhookURL(c *checker, raw string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Scheme == "":
		c.add(violation{
			field:       "url",
			description: fmt.Sprintf("url %q is not an absolute URL; use a form like https://example.com/webhooks", raw),
			reason:      reasonInvalidURL,
			message: fmt.Sprintf("url %q is not a valid absolute URL; use a form like https://example.com/webhooks",
				raw),
		})
	case u.Scheme != "https":
		c.add(violation{
			field:       "url",
			description: fmt.Sprintf("url uses the scheme %q; webhook endpoints must use https", u.Scheme),
			reason:      reasonInvalidURL,
			message:     "URL must use HTTPS",
		})
	}
}

// checkWebhookEvents requires at least one event, each of which endpoints
// may subscribe to: every event type except webhook.test, which only
// TestWebhook sends. Unknown numbers are reported by checkEncodable.
func checkWebhookEvents(c *checker, events []groundcamv1.WebhookEventType) {
	if len(events) == 0 {
		c.add(violation{
			field:       "events",
			description: "events is empty; subscribe to at least one event, such as session.created",
			reason:      reasonInvalidField,
			message:     "events must contain at least one event",
		})
		return
	}
	for i, event := range events {
		if event != groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_WEBHOOK_TEST {
			continue
		}
		c.add(violation{
			field: fmt.Sprintf("events[%d]", i),
			description: fmt.Sprintf("events[%d] is webhook.test, which endpoints cannot subscribe to; use one of %s",
				i, strings.Join(subscribableEvents(), ", ")),
			reason:  reasonInvalidEvent,
			message: "Invalid event: webhook.test",
		})
	}
}

// subscribableEvents lists the upstream names of the events endpoints may
// subscribe to.
func subscribableEvents() []string {
	test := wireValue(groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_WEBHOOK_TEST.Descriptor().
		Values().ByNumber(groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_WEBHOOK_TEST.Number()))
	var out []string
	for _, name := range wireValues(groundcamv1.WebhookEventType(0).Descriptor()) {
		if name != test {
			out = append(out, name)
		}
	}
	return out
}
