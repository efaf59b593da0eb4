<?cs include!"macros.cs" ?>
<?cs def:content() ?>
<section class="card narrow">
  <h1>Enter your code</h1>
  <p class="lead">Hello <?cs var:Session.display_name ?>. Your account is protected by a token: open your authenticator app (or look at your token) and type the code it shows now.</p>
  <form method="post" action="/login" class="stack">
    <?cs call:csrf() ?>
<?cs if:StepUp.pin == 1 ?>
    <div class="field">
      <label for="pin">Token PIN <span class="muted">(only if you set one)</span></label>
      <input id="pin" name="pin" type="password" autocomplete="off" maxlength="64" autofocus>
    </div>
<?cs /if ?>
    <div class="field<?cs if:Errors.code ?> has-error<?cs /if ?>">
      <label for="code">Code</label>
      <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="80" class="code" required<?cs if:StepUp.pin != 1 ?> autofocus<?cs /if ?><?cs call:invalid("code") ?>>
      <?cs call:field_error("code") ?>
    </div>
    <button type="submit" class="primary">Continue</button>
<?cs if:StepUp.email == 1 ?>
    <p class="hint">An e-mail token has no screen: ask for its code<?cs if:StepUp.pin == 1 ?> (with its PIN above, if it has one)<?cs /if ?>, then type the code from the mail above.</p>
    <button type="submit" name="send" value="email" formnovalidate>Send a code to my e-mail</button>
<?cs /if ?>
  </form>
  <form method="post" action="/logout" class="aside">
    <?cs call:csrf() ?>
    <button type="submit" class="linklike">Cancel and sign out</button>
  </form>
  <p class="hint">No token at hand? The helpdesk can help you sign in.</p>
</section>
<?cs /def ?>
<?cs include!"layout.cs" ?>
