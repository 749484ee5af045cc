package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Pages that are not what they should be (issue 19): a transfer cut off is
// retried; a complete JSON answer that does not parse is not; one object
// that does not fit is left out and reported, the rest of its page kept.

// jsonBody answers 200 with body as application/json, whatever was asked.
func jsonBody(body string) fault {
	return func(w http.ResponseWriter, r *http.Request, _ string) bool {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		fmt.Fprint(w, body)
		return true
	}
}

func TestCompleteBadJSONIsNotRetried(t *testing.T) {
	for _, body := range []string{
		`{"value":[{"id":"a"} {"id":"b"}]}`, // a syntax error inside a complete body
		`{"value":{"id":"a"}}`,              // value is not an array
	} {
		f := usersFixture(t)
		f.push(jsonBody(body))
		sl := &sleeps{}
		var retries []Retry
		c, err := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{Sleep: sl.sleep, PageSize: 2, OnRetry: func(r Retry) { retries = append(retries, r) }})
		if err != nil {
			t.Fatal(err)
		}
		_, err = collectUsers(t, c)
		if err == nil || !strings.Contains(err.Error(), "not valid JSON") || !strings.Contains(err.Error(), "offset") || !strings.Contains(err.Error(), "/v1.0/users") {
			t.Fatalf("%s: err = %v", body, err)
		}
		if len(f.requests) != 1 || len(retries) != 0 {
			t.Fatalf("%s: %d requests, %d retries: a complete answer was retried", body, len(f.requests), len(retries))
		}
	}
}

// TestCutTransferIsRetried: a body shorter than its Content-Length, and a
// JSON body that ends inside the page, are tried again (as is a gateway's
// HTML page, TestTransientFaultsStillGiveExactData).
func TestCutTransferIsRetried(t *testing.T) {
	for name, flt := range map[string]fault{"short body": truncated, "JSON ends early": jsonBody(`{"value":[{"id":"a"},`)} {
		f := usersFixture(t)
		f.push(flt)
		sl := &sleeps{}
		var reasons []string
		c, err := New(f.srv.Client(), f.srv.URL, &tokens{}, Options{Sleep: sl.sleep, PageSize: 2, OnRetry: func(r Retry) { reasons = append(reasons, r.Reason) }})
		if err != nil {
			t.Fatal(err)
		}
		got, err := collectUsers(t, c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkUsers(t, got)
		if len(reasons) != 1 || !strings.Contains(reasons[0], "cut off") && !strings.Contains(reasons[0], "ended early") {
			t.Fatalf("%s: retries %q", name, reasons)
		}
	}
}

func TestOddObjectLeftOutAndReported(t *testing.T) {
	f := newFixture(t)
	f.pages["/v1.0/users?$select="+UserSelect+"&$top=2"] = `{"value":[{"id":"u1","accountEnabled":true},{"id":"u2","accountEnabled":"yes"},{"id":"u3","displayName":"Party \ud83c"}]}`
	f.pages["/v1.0/subscribedSkus"] = `{"value":[{"skuId":"e3","consumedUnits":14.0,"prepaidUnits":{"enabled":2.5E1,"warning":1e0}},{"skuId":"half","consumedUnits":14.5},{"skuId":"e5","consumedUnits":1.4E1}]}`
	c := newClient(t, f, &tokens{}, &sleeps{})
	var mu sync.Mutex
	var skipped []Skipped
	ctx := WithSkipped(context.Background(), func(s Skipped) {
		mu.Lock()
		skipped = append(skipped, s)
		mu.Unlock()
	})
	var users []User
	err := c.Users(ctx, func(p []User) error { users = append(users, p...); return nil })
	if err != nil || len(users) != 2 || users[0].ID != "u1" || users[1].ID != "u3" || users[1].DisplayName != "Party \uFFFD" {
		t.Fatalf("users %+v, %v", users, err)
	}
	skus, err := c.SubscribedSKUs(ctx)
	if err != nil || len(skus) != 2 || skus[0].ConsumedUnits != 14 || skus[0].PrepaidUnits.Enabled != 25 || skus[0].PrepaidUnits.Warning != 1 || skus[1].ConsumedUnits != 14 {
		t.Fatalf("skus %+v, %v", skus, err)
	}
	if len(skipped) != 2 {
		t.Fatalf("skipped %v", skipped)
	}
	if s := skipped[0]; s.Path != "/v1.0/users" || s.ID != "u2" || s.Property != "/accountEnabled" || !strings.Contains(s.Error(), "left out") {
		t.Errorf("user: %+v (%v)", s, s)
	}
	if s := skipped[1]; s.Path != "/v1.0/subscribedSkus" || s.Property != "/consumedUnits" || !strings.Contains(s.Error(), "14.5 is not a whole number") {
		t.Errorf("sku: %v", s)
	}
}

// TestErrorBodyWithBOM: an error answer that starts with a UTF-8 byte
// order mark keeps its code and message.
func TestErrorBodyWithBOM(t *testing.T) {
	f := usersFixture(t)
	f.push(func(w http.ResponseWriter, r *http.Request, _ string) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(403)
		fmt.Fprint(w, "\ufeff"+`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"request-id":"r-bom"}}}`)
		return true
	})
	_, err := collectUsers(t, newClient(t, f, &tokens{}, &sleeps{}))
	ge, ok := err.(*GraphError)
	if !ok || ge.Code != "Authorization_RequestDenied" || ge.Message != "Insufficient privileges to complete the operation." || ge.RequestID != "r-bom" {
		t.Fatalf("err = %#v", err)
	}
}
