package emulator

// makeAdminFields are the members of users.makeAdmin's body.
var makeAdminFields = map[string]fieldUse{"status": fieldHandled}

// makeAdmin serves users.makeAdmin, the one call that changes isAdmin:
// {"status": true} makes the user a super admin, false takes it away.
// Google answers with an empty body.
func (s *Server) makeAdmin(c *call) (any, error) {
	obj, err := c.object(makeAdminFields)
	if err != nil {
		return nil, err
	}
	var status *bool
	if _, err := decodeField(obj, "status", &status); err != nil {
		return nil, err
	}
	if status == nil {
		return nil, errRequired("status")
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userToChange(c, now)
	if err != nil {
		return nil, err
	}
	u.isAdmin = *status
	u.version++
	return nil, nil
}
