// After a passkey is registered, go where the server says: the recovery codes made with a
// first passkey, or the list of passkeys with the new one.
document.addEventListener("otp_webauthn.register_complete", (event) => {
  const answer = event.detail && event.detail.response;
  window.location.assign((answer && answer.redirect_url) || window.location.href);
});
