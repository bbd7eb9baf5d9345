// A Jarvis client in Go, written only from proto/ (stubs by Debian's protoc-gen-go and
// protoc-gen-go-grpc; grpc-go 1.33 from golang-google-grpc-dev). See README.md for building.
//
//	jarvis-client -target unix:///HOME/.jarvis/run/session.sock -to bob -text hello [-token T] [-timeout 20s]
//
// It prints one JSON line per step: status, contacts, send, invalid_argument (with the
// google.rpc.ErrorInfo reason), delivered (following Subscribe, resuming after the last cursor
// if the stream breaks), done. A failing step prints "ok": false and exits 1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	sessionv1 "jarvis.example/gen/jarvis/session/v1"
)

func emit(step string, fields map[string]interface{}) {
	if fields == nil {
		fields = map[string]interface{}{}
	}
	fields["step"] = step
	line, _ := json.Marshal(fields)
	fmt.Println(string(line))
}

func fail(step string, err error) {
	s, _ := status.FromError(err)
	emit(step, map[string]interface{}{"ok": false, "code": s.Code().String(), "details": s.Message(), "reason": reasonOf(err)})
	os.Exit(1)
}

// reasonOf is the stable Jarvis error code: the ErrorInfo detail whose domain is "jarvis".
func reasonOf(err error) string {
	for _, detail := range status.Convert(err).Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok && info.Domain == "jarvis" {
			return info.Reason
		}
	}
	return ""
}

func main() {
	target := flag.String("target", "", "unix:///abs/session.sock, host:port or tcp://host:port")
	token := flag.String("token", "", "bearer token for TCP mode (<profile>/run/token)")
	to := flag.String("to", "", "contact to message (uid, prefix, alias or name)")
	text := flag.String("text", "", "message text")
	timeout := flag.Duration("timeout", 20*time.Second, "time for the whole run")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
	}
	conn, err := grpc.DialContext(ctx, strings.TrimPrefix(*target, "tcp://"), grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fail("connect", err)
	}
	defer conn.Close()
	session := sessionv1.NewSessionServiceClient(conn)

	st, err := session.GetStatus(ctx, &sessionv1.GetStatusRequest{})
	if err != nil {
		fail("status", err)
	}
	emit("status", map[string]interface{}{"uid": st.Uid, "name": st.Name, "locked": st.Locked})

	contacts, err := session.ListContacts(ctx, &sessionv1.ListContactsRequest{})
	if err != nil {
		fail("contacts", err)
	}
	var list []map[string]string
	for _, c := range contacts.Contacts {
		list = append(list, map[string]string{"uid": c.Uid, "name": c.Name})
	}
	emit("contacts", map[string]interface{}{"contacts": list})

	sent, err := session.SendMessage(ctx, &sessionv1.SendMessageRequest{Conversation: *to, Text: *text})
	if err != nil {
		fail("send", err)
	}
	emit("send", map[string]interface{}{"id": sent.Message.Id, "state": sent.Message.State.String()})

	_, err = session.SendMessage(ctx, &sessionv1.SendMessageRequest{Conversation: *to, Text: ""})
	emit("invalid_argument", map[string]interface{}{"code": status.Code(err).String(), "reason": reasonOf(err)})

	var cursor uint64
	for {
		stream, err := session.Subscribe(ctx, &sessionv1.SubscribeRequest{AfterCursor: cursor})
		if err != nil {
			fail("delivered", err)
		}
		for {
			event, err := stream.Recv()
			if err != nil {
				if ctx.Err() != nil {
					fail("delivered", err)
				}
				break // a broken stream: resume after the last cursor
			}
			cursor = event.Cursor
			if change := event.GetMessageStateChanged(); change != nil && change.MessageId == sent.Message.Id &&
				change.State == sessionv1.MessageState_MESSAGE_STATE_DELIVERED {
				emit("delivered", map[string]interface{}{"id": change.MessageId, "cursor": cursor})
				emit("done", nil)
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
}
