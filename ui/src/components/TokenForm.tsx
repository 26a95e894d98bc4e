import { useState } from 'preact/hooks';
import { setToken } from '../api';

export function TokenForm() {
  const [value, setValue] = useState('');
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim());
        }}
      >
        <h2>Authentication required</h2>
        <p>The server answered 401. Enter a bearer token; it is kept in this tab's session storage.</p>
        <input
          data-testid="token-input"
          type="password"
          autoFocus
          placeholder="token"
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
        />
        <div class="row">
          <button data-testid="token-save" type="submit" class="primary">
            Save and retry
          </button>
        </div>
      </form>
    </div>
  );
}
